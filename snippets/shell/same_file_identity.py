#| implementations: cpython pypy
x = 2000
y = 2000
print(x is y)
print(x == y)

#> True
#> True

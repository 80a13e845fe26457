#| implementations: cpython pypy
x = 1000
y = 1000
print(x is y)
print(x == y)

#> True
#> True

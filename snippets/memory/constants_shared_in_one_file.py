#| implementations: cpython pypy
a = 257
b = 257
print("module level:", a is b)


def inside_a_function():
    x = 1000
    y = 1000
    return x is y


def give_257():
    return 257


print("one function:", inside_a_function())
print("another function, same file:", give_257() is a)

c = int("257")
print("built at run time:", c is a)

#>[3.11 3.12 3.13 3.14 3.13t]
#> module level: True
#> one function: True
#> another function, same file: True
#> built at run time: False
#>[3.15 pypy3.11]
#> module level: True
#> one function: True
#> another function, same file: True
#> built at run time: True

#| implementations: cpython pypy
def grow():
    s = "x" * 30
    kept = 0
    for _ in range(20):
        before = id(s)
        s += "y"  # no other reference to the old string exists
        kept += id(s) == before
    return s, kept


s, kept = grow()
print(len(s), "characters")
print("kept its id at least once:", kept > 0)

#>[3.11 3.12 3.13 3.14 3.15]
#> 50 characters
#> kept its id at least once: True
#>[3.13t pypy3.11]
#> 50 characters
#> kept its id at least once: False

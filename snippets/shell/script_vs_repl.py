import sys

print("__name__:", __name__)
print("interactive flag:", sys.flags.interactive)
print("has sys.ps1:", hasattr(sys, "ps1"))
6 * 7  # evaluated and thrown away: a script echoes nothing
try:
    _
except NameError as error:
    print("NameError:", error)

#> __name__: __main__
#> interactive flag: 0
#> has sys.ps1: False
#> NameError: name '_' is not defined

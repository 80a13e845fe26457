#| implementations: cpython pypy
import marshal
import py_compile

source = "def total(prices):\n    return sum(p * 1.2 for p in prices)\n"
with open("tax.py", "w") as f:
    f.write(source)

with open(py_compile.compile("tax.py"), "rb") as f:
    from_pyc = marshal.loads(f.read()[16:])   # skip the 16-byte header

fresh = compile(source, "tax.py", "exec")     # what running the source would do

print(type(from_pyc).__name__, type(fresh).__name__)
print("same bytecode:  ", from_pyc.co_code == fresh.co_code)
print("same function body:", from_pyc.co_consts[0].co_code == fresh.co_consts[0].co_code)
print("same names:     ", from_pyc.co_names == fresh.co_names)
print("equal code objects:", from_pyc == fresh)

#> code code
#> same bytecode:   True
#> same function body: True
#> same names:      True
#> equal code objects: True

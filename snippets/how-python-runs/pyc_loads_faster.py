#| implementations: cpython pypy
#| timeout: 30
import marshal
import timeit

# A module of 200 small functions: typical work for the compiler.
source = "".join(f"def f{i}(x):\n    return x * {i} + len(str(x))\n" for i in range(200))
code = compile(source, "big.py", "exec")
data = marshal.dumps(code)               # what a .pyc stores after its header

compile_time = min(timeit.repeat(lambda: compile(source, "big.py", "exec"), number=20, repeat=5))
load_time = min(timeit.repeat(lambda: marshal.loads(data), number=20, repeat=5))

print("same code object either way:", marshal.loads(data) == code)
print("unmarshalling is at least 3x faster than compiling:", compile_time > 3 * load_time)

#> same code object either way: True
#> unmarshalling is at least 3x faster than compiling: True

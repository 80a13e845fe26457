#| implementations: cpython pypy
import pathlib

pathlib.Path("greeting.py").write_text("message = 'hi'\n")

import greeting

# The imported module's spec knows where its cache file is; a script run by
# path has no spec at all. (__cached__, the old spelling, is gone in 3.15.)
print("greeting.__spec__.cached:", pathlib.Path(greeting.__spec__.cached).relative_to(pathlib.Path.cwd()))
print("this script's __spec__:", __spec__)
print("greeting has __cached__:", hasattr(greeting, "__cached__"))
print("files in __pycache__:", sorted(p.name for p in pathlib.Path("__pycache__").iterdir()))

#>[3.11]
#> greeting.__spec__.cached: __pycache__/greeting.cpython-311.pyc
#> this script's __spec__: None
#> greeting has __cached__: True
#> files in __pycache__: ['greeting.cpython-311.pyc']
#>[3.12]
#> greeting.__spec__.cached: __pycache__/greeting.cpython-312.pyc
#> this script's __spec__: None
#> greeting has __cached__: True
#> files in __pycache__: ['greeting.cpython-312.pyc']
#>[3.13 3.13t]
#> greeting.__spec__.cached: __pycache__/greeting.cpython-313.pyc
#> this script's __spec__: None
#> greeting has __cached__: True
#> files in __pycache__: ['greeting.cpython-313.pyc']
#>[3.14]
#> greeting.__spec__.cached: __pycache__/greeting.cpython-314.pyc
#> this script's __spec__: None
#> greeting has __cached__: True
#> files in __pycache__: ['greeting.cpython-314.pyc']
#>[3.15]
#> greeting.__spec__.cached: __pycache__/greeting.cpython-315.pyc
#> this script's __spec__: None
#> greeting has __cached__: False
#> files in __pycache__: ['greeting.cpython-315.pyc']
#>[pypy3.11]
#> greeting.__spec__.cached: __pycache__/greeting.pypy311.pyc
#> this script's __spec__: None
#> greeting has __cached__: True
#> files in __pycache__: ['greeting.pypy311.pyc']

#| implementations: cpython pypy
import pathlib

pathlib.Path("greeting.py").write_text("message = 'hi'\n")

import greeting

# The imported module knows where its cache file is; the script itself has none.
print("greeting.__cached__:", pathlib.Path(greeting.__cached__).relative_to(pathlib.Path.cwd()))
print("this script's __cached__:", __cached__)
print("files in __pycache__:", sorted(p.name for p in pathlib.Path("__pycache__").iterdir()))

#>[3.11]
#> greeting.__cached__: __pycache__/greeting.cpython-311.pyc
#> this script's __cached__: None
#> files in __pycache__: ['greeting.cpython-311.pyc']
#>[3.12]
#> greeting.__cached__: __pycache__/greeting.cpython-312.pyc
#> this script's __cached__: None
#> files in __pycache__: ['greeting.cpython-312.pyc']
#>[3.13 3.13t]
#> greeting.__cached__: __pycache__/greeting.cpython-313.pyc
#> this script's __cached__: None
#> files in __pycache__: ['greeting.cpython-313.pyc']
#>[3.14]
#> greeting.__cached__: __pycache__/greeting.cpython-314.pyc
#> this script's __cached__: None
#> files in __pycache__: ['greeting.cpython-314.pyc']
#>[pypy3.11]
#> greeting.__cached__: __pycache__/greeting.pypy311.pyc
#> this script's __cached__: None
#> files in __pycache__: ['greeting.pypy311.pyc']

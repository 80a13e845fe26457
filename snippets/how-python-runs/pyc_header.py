#| implementations: cpython pypy
import importlib.util
import os
import py_compile

source = b"PRICE = 3\n"
with open("prices.py", "wb") as f:
    f.write(source)

pyc_path = py_compile.compile("prices.py")
print("written to:", os.path.relpath(pyc_path))

with open(pyc_path, "rb") as f:
    header = f.read(16)

magic = header[0:4]
flags = int.from_bytes(header[4:8], "little")
mtime = int.from_bytes(header[8:12], "little")
size = int.from_bytes(header[12:16], "little")

print("magic:", magic, "== MAGIC_NUMBER:", magic == importlib.util.MAGIC_NUMBER)
print("flags:", flags, "(0 = timestamp-based)")
print("mtime matches the source:", mtime == int(os.stat("prices.py").st_mtime))
print("size:", size, "== len(source):", size == len(source))

#>[3.11]
#> written to: __pycache__/prices.cpython-311.pyc
#> magic: b'\xa7\r\r\n' == MAGIC_NUMBER: True
#> flags: 0 (0 = timestamp-based)
#> mtime matches the source: True
#> size: 10 == len(source): True
#>[3.12]
#> written to: __pycache__/prices.cpython-312.pyc
#> magic: b'\xcb\r\r\n' == MAGIC_NUMBER: True
#> flags: 0 (0 = timestamp-based)
#> mtime matches the source: True
#> size: 10 == len(source): True
#>[3.13 3.13t]
#> written to: __pycache__/prices.cpython-313.pyc
#> magic: b'\xf3\r\r\n' == MAGIC_NUMBER: True
#> flags: 0 (0 = timestamp-based)
#> mtime matches the source: True
#> size: 10 == len(source): True
#>[3.14]
#> written to: __pycache__/prices.cpython-314.pyc
#> magic: b'+\x0e\r\n' == MAGIC_NUMBER: True
#> flags: 0 (0 = timestamp-based)
#> mtime matches the source: True
#> size: 10 == len(source): True
#>[3.15]
#> written to: __pycache__/prices.cpython-315.pyc
#> magic: b'R\x0e\r\n' == MAGIC_NUMBER: True
#> flags: 0 (0 = timestamp-based)
#> mtime matches the source: True
#> size: 10 == len(source): True
#>[pypy3.11]
#> written to: __pycache__/prices.pypy311.pyc
#> magic: b'\xb0\x01\r\n' == MAGIC_NUMBER: True
#> flags: 0 (0 = timestamp-based)
#> mtime matches the source: True
#> size: 10 == len(source): True

#| implementations: cpython pypy
import importlib.util
import py_compile

source = b"PRICE = 3\n"
with open("prices.py", "wb") as f:
    f.write(source)

for mode in py_compile.PycInvalidationMode:
    pyc_path = py_compile.compile("prices.py", invalidation_mode=mode)
    with open(pyc_path, "rb") as f:
        header = f.read(16)
    flags = int.from_bytes(header[4:8], "little")
    same_hash = header[8:16] == importlib.util.source_hash(source)
    print(f"{mode.name:15} flags={flags}  bytes 8-16 are the source hash: {same_hash}")

#> TIMESTAMP       flags=0  bytes 8-16 are the source hash: False
#> CHECKED_HASH    flags=3  bytes 8-16 are the source hash: True
#> UNCHECKED_HASH  flags=1  bytes 8-16 are the source hash: True

#| implementations: cpython pypy
from collections.abc import Hashable

samples = [
    [1, 2], {"a": 1}, {1, 2}, bytearray(b"x"),
    42, 3.14, 2 + 3j, True, None, "text", b"raw",
    (1, 2), frozenset({1, 2}), range(3),
]
for value in samples:
    kind = type(value).__name__
    print(f"{kind:<10} hashable: {isinstance(value, Hashable)}")

#> list       hashable: False
#> dict       hashable: False
#> set        hashable: False
#> bytearray  hashable: False
#> int        hashable: True
#> float      hashable: True
#> complex    hashable: True
#> bool       hashable: True
#> NoneType   hashable: True
#> str        hashable: True
#> bytes      hashable: True
#> tuple      hashable: True
#> frozenset  hashable: True
#> range      hashable: True

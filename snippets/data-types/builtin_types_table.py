import builtins
from collections import abc, namedtuple

Pair = namedtuple('Pair', 'a b')
samples = [1, 2.5, 3j, True, None, 'spam', b'spam', bytearray(b'spam'),
           [1, 2], (1, 2), Pair(1, 2), range(3), {'k': 1}, {1, 2},
           frozenset({1, 2})]
if hasattr(builtins, 'frozendict'):  # new in 3.15
    samples.append(builtins.frozendict(k=1))


def hashable(obj):
    try:
        hash(obj)
    except TypeError:
        return 'no'
    return 'yes'


def mutable(obj):
    kinds = (abc.MutableSequence, abc.MutableSet, abc.MutableMapping)
    return 'yes' if isinstance(obj, kinds) else 'no'


def ordered(obj):
    if isinstance(obj, abc.Sequence):
        return 'by position'
    if isinstance(obj, abc.Mapping):
        return 'insertion'
    if isinstance(obj, abc.Set):
        return 'no'
    return '-'


print(f"{'type':11} {'mutable':8} {'hashable':9} ordered")
for obj in samples:
    print(f'{type(obj).__name__:11} {mutable(obj):8} {hashable(obj):9} {ordered(obj)}')

print('tuple holding a list is hashable:', hashable((1, [2])))

#>[3.11 3.12 3.13 3.14 3.13t]
#> type        mutable  hashable  ordered
#> int         no       yes       -
#> float       no       yes       -
#> complex     no       yes       -
#> bool        no       yes       -
#> NoneType    no       yes       -
#> str         no       yes       by position
#> bytes       no       yes       by position
#> bytearray   yes      no        by position
#> list        yes      no        by position
#> tuple       no       yes       by position
#> Pair        no       yes       by position
#> range       no       yes       by position
#> dict        yes      no        insertion
#> set         yes      no        no
#> frozenset   no       yes       no
#> tuple holding a list is hashable: no
#>[3.15]
#> type        mutable  hashable  ordered
#> int         no       yes       -
#> float       no       yes       -
#> complex     no       yes       -
#> bool        no       yes       -
#> NoneType    no       yes       -
#> str         no       yes       by position
#> bytes       no       yes       by position
#> bytearray   yes      no        by position
#> list        yes      no        by position
#> tuple       no       yes       by position
#> Pair        no       yes       by position
#> range       no       yes       by position
#> dict        yes      no        insertion
#> set         yes      no        no
#> frozenset   no       yes       no
#> frozendict  no       yes       insertion
#> tuple holding a list is hashable: no

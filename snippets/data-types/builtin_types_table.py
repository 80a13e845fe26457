from collections import abc, namedtuple

Pair = namedtuple('Pair', 'a b')
samples = [1, 2.5, 3j, True, None, 'spam', b'spam', bytearray(b'spam'),
           [1, 2], (1, 2), Pair(1, 2), {'k': 1}, {1, 2}, frozenset({1, 2})]


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


print(f"{'type':10} {'mutable':8} {'hashable':9} ordered")
for obj in samples:
    print(f'{type(obj).__name__:10} {mutable(obj):8} {hashable(obj):9} {ordered(obj)}')

print('tuple holding a list:', hashable((1, [2])))

#> type       mutable  hashable  ordered
#> int        no       yes       -
#> float      no       yes       -
#> complex    no       yes       -
#> bool       no       yes       -
#> NoneType   no       yes       -
#> str        no       yes       by position
#> bytes      no       yes       by position
#> bytearray  yes      no        by position
#> list       yes      no        by position
#> tuple      no       yes       by position
#> Pair       no       yes       by position
#> dict       yes      no        insertion
#> set        yes      no        no
#> frozenset  no       yes       no
#> tuple holding a list: no

import os

# Text mode: you write and read str; the encoding turns it into bytes on disk.
with open('demos.txt', 'w', encoding='utf-8') as f:
    print(f.write('café\n'))         # write() returns characters written
print(os.path.getsize('demos.txt'))  # ...but the file holds bytes

with open('demos.txt', encoding='utf-8') as f:
    text = f.read()
print(type(text), repr(text))
print(type(f).__name__, f.closed)    # `with` closed it on the way out

# Binary mode: bytes in, bytes out, no encoding, no newline translation.
with open('ham.bin', 'wb') as f:
    f.write(b'a\x01c')
with open('ham.bin', 'rb') as f:
    raw = f.read()
print(type(f).__name__, type(raw), raw, list(raw))

with open('demos.txt', 'rb') as f:
    print(f.read())                  # the same file, seen as raw bytes

try:
    with open('ham.bin', 'wb') as f:
        f.write('not bytes')
except TypeError as error:
    print('TypeError:', error)

#> 5
#> 6
#> <class 'str'> 'café\n'
#> TextIOWrapper True
#> BufferedReader <class 'bytes'> b'a\x01c' [97, 1, 99]
#> b'caf\xc3\xa9\n'
#> TypeError: a bytes-like object is required, not 'str'

#!/usr/bin/env python3
"""Footprint report for one build dir: python3 analyze.py build/<variant> [...]

Flash = .isr_vector + .text + .rodata (+ .ARM.* / init arrays) + .data (load image).
RAM   = .data + .bss.
Component attribution comes from the linker map: every kept input section
is charged to the object (or archive member) it came from.
"""
import re, sys, collections

FLASH_RO = ('.isr_vector', '.text', '.rodata', '.ARM.extab', '.ARM.exidx', '.init_array')

def size_a(path):
    d = {}
    for line in open(path):
        m = re.match(r'^(\.\S+)\s+(\d+)\s+(\d+)', line)
        if m:
            d[m.group(1)] = int(m.group(2))
    ro = sum(d.get(k, 0) for k in FLASH_RO)
    return dict(text=d.get('.isr_vector', 0) + d.get('.text', 0),
                rodata=ro - d.get('.isr_vector', 0) - d.get('.text', 0),
                data=d.get('.data', 0), bss=d.get('.bss', 0),
                flash=ro + d.get('.data', 0), ram=d.get('.data', 0) + d.get('.bss', 0))

def comp(obj):
    o = obj.split('/')[-1]
    m = re.search(r'lib(c_nano|c|g_nano|g|gcc|nosys)\.a\((.*)\)', o)
    if m:
        return 'libc' if m.group(1) in ('c', 'c_nano', 'g', 'g_nano', 'nosys') else 'libgcc'
    m = re.search(r'\((.*)\.o\)', o)
    if m:
        o = m.group(1)
    else:
        o = o.replace('.o', '')
    if o.startswith('cbor'):
        return 'tinycbor(' + o + ')'
    return o

def map_sections(path):
    """Yield (output_section, input_section, size, object) for kept input sections."""
    lines = open(path).read().split('\n')
    try:
        start = lines.index('Linker script and memory map')
    except ValueError:
        start = 0
    out = None
    pending = None
    for line in lines[start:]:
        m = re.match(r'^(\.[\w.]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+', line)
        if m and not line.startswith(' '):
            out = m.group(1)
            continue
        if re.match(r'^(\.[\w.]+)\s*$', line) and not line.startswith(' '):
            out = line.strip(); continue
        m = re.match(r'^ (\*fill\*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)', line)
        if m:
            yield out, '*fill*', int(m.group(3), 16), '*fill*'
            continue
        m = re.match(r'^ (\.\S+|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$', line)
        if m:
            yield out, m.group(1), int(m.group(3), 16), m.group(4).strip()
            pending = None
            continue
        m = re.match(r'^ (\.\S+|COMMON)\s*$', line)
        if m:
            pending = m.group(1); continue
        m = re.match(r'^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$', line)
        if m and pending:
            yield out, pending, int(m.group(2), 16), m.group(3).strip()
            pending = None

def attribute(path):
    flash = collections.Counter(); ram = collections.Counter(); libc = collections.Counter()
    for out, isec, sz, obj in map_sections(path):
        if out is None or sz == 0:
            continue
        if out not in FLASH_RO + ('.data', '.bss'):
            continue
        c = comp(obj) if obj != '*fill*' else 'padding'
        if out in FLASH_RO or out == '.data':
            flash[c] += sz
        if out in ('.data', '.bss'):
            ram[c] += sz
        if c in ('libc', 'libgcc'):
            mem = re.search(r'\((.*)\)', obj).group(1)
            libc[(isec, mem, out)] += sz
    return flash, ram, libc

def report(b):
    f = size_a(b + '/full.size.txt'); z = size_a(b + '/baseline.size.txt')
    fl, fr, lc = attribute(b + '/full.map')
    bl, br, _ = attribute(b + '/baseline.map')
    d = {k: f[k] - z[k] for k in f}
    libc_flash = fl['libc'] + fl['libgcc'] - bl['libc'] - bl['libgcc']
    libc_ram = fr['libc'] + fr['libgcc'] - br['libc'] - br['libgcc']
    print('== %s' % b)
    print('  full     : text %6d rodata %5d data %4d bss %6d | flash %6d ram %6d' % tuple(f[k] for k in ('text','rodata','data','bss','flash','ram')))
    print('  baseline : text %6d rodata %5d data %4d bss %6d | flash %6d ram %6d' % tuple(z[k] for k in ('text','rodata','data','bss','flash','ram')))
    print('  AGENT    : text %6d rodata %5d data %4d bss %6d | flash %6d ram %6d' % tuple(d[k] for k in ('text','rodata','data','bss','flash','ram')))
    print('  AGENT excl. C library: flash %d ram %d  (libc+libgcc in image: flash %d ram %d)' % (d['flash'] - libc_flash, d['ram'] - libc_ram, libc_flash, libc_ram))
    print('  components (flash / ram), delta vs baseline:')
    keys = sorted(set(fl) | set(bl), key=lambda k: -(fl[k] - bl[k]))
    for k in keys:
        if fl[k] - bl[k] or fr[k] - br[k]:
            print('    %-48s %6d %6d' % (k, fl[k] - bl[k], fr[k] - br[k]))
    print('  C-library input sections (section, member, output, size):')
    for (isec, mem, out), sz in sorted(lc.items(), key=lambda x: -x[1]):
        print('    %-28s %-34s %-8s %5d' % (isec, mem, out, sz))
    print()

if __name__ == '__main__':
    for b in sys.argv[1:]:
        report(b.rstrip('/'))

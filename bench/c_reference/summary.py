#!/usr/bin/env python3
"""One line per build dir: agent flash/RAM (full - baseline), with and without C library."""
import sys, analyze
print('%-42s %7s %6s | %9s %8s | %9s %6s' % ('variant', 'flash', 'RAM', 'flash-lib', 'RAM-lib', 'objs-only', 'libc'))
for b in sys.argv[1:]:
    b = b.rstrip('/'); name = b.split('/')[-1]
    try:
        f = analyze.size_a(b + '/full.size.txt'); z = analyze.size_a(b + '/baseline.size.txt')
    except FileNotFoundError:
        continue
    fl, fr, _ = analyze.attribute(b + '/full.map'); bl, br, _ = analyze.attribute(b + '/baseline.map')
    lf = fl['libc'] + fl['libgcc'] - bl['libc'] - bl['libgcc']
    lr = fr['libc'] + fr['libgcc'] - br['libc'] - br['libgcc']
    df = f['flash'] - z['flash']; dr = f['ram'] - z['ram']
    skip = ('libc', 'libgcc', 'padding', 'main_full', 'main_base', 'startup')
    objs = sum(v - bl[k] for k, v in fl.items() if k not in skip and not k.startswith('stubs'))
    if name.endswith('-lto'): objs = float('nan')
    print('%-42s %7d %6d | %9d %8d | %9s %6d' % (name, df, dr, df - lf, dr - lr, objs if objs == objs else 'n/a', lf))

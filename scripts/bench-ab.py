#!/usr/bin/env python3
"""Before/after runs of the kafka benchmark, alternating: python3 scripts/bench-ab.py ROUNDS "ENV=..;ARGS" "ENV=..;ARGS" ...
Each variant: space-separated environment (BENCH=the benchmark dll, REPO=its tree: a whole copy of an older build tree
for a before/after) and the benchmark arguments after the semicolon. Prints each run, then medians and ranges."""
import subprocess, sys, re, statistics, os
rounds = int(sys.argv[1]); variants = sys.argv[2:]
res = {v: [] for v in variants}
for r in range(rounds):
    for v in variants:
        envs, _, args = v.partition(';')
        env = dict(os.environ)
        for kv in filter(None, envs.split(' ')):
            k, _, val = kv.partition('='); env[k] = val
        cmd = ['dotnet', env.get('BENCH', '/work/main/tests/PluginHost.Benchmarks/bin/Release/net10.0/PluginHost.Benchmarks.dll'), 'kafka', '--first-start-only'] + args.split()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=env.get('REPO', '/work/main')).stdout
        m = re.search(r'first start \(load average ([\d.]+)\).*?= ([\d,]+) events/s \(from the first acknowledged event: ([\d,]+)', out)
        c = re.search(r'; ([\d.]+) µs/event after the first', out)
        p = re.search(r'paused ([\d.]+) s', out)
        rss = re.search(r'peak RSS (\d+) MB', out)
        if not m: print('FAILED', v, out[-2000:]); continue
        row = (float(m.group(1)), int(m.group(2).replace(',', '')), int(m.group(3).replace(',', '')), float(c.group(1)) if c else 0, float(p.group(1)) if p else -1, int(rss.group(1)) if rss else 0)
        res[v].append(row)
        print(f"{v[:70]:70} load {row[0]:5.2f} start {row[1]:7,} first-ack {row[2]:7,} cpu {row[3]:5.1f} us pause {row[4]:.2f} rss {row[5]}", flush=True)
print()
for v, rows in res.items():
    if not rows: continue
    med = lambda i: statistics.median(r[i] for r in rows)
    rng = lambda i: f"{min(r[i] for r in rows)}-{max(r[i] for r in rows)}"
    print(f"{v[:70]:70} n={len(rows)} median start {med(1):,.0f} ({rng(1)}) first-ack {med(2):,.0f} ({rng(2)}) cpu {med(3):.1f} ({rng(3)}) pause {med(4):.2f} load {rng(0)}")

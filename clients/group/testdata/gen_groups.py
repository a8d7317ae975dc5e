# Random groups in the java_assignments.txt case format: python3 gen_groups.py SEED COUNT MODE
# (MODE: none, one, multi, dup, ud, udup or mix; see testdata/README.md).
import random, sys
seed = int(sys.argv[1]); count = int(sys.argv[2]); mode = sys.argv[3]
rng = random.Random(seed)
def mid(i):
    k = rng.random()
    if k < 0.3: return "consumer%d" % i
    if k < 0.6: return "c-%d-%08x" % (i, rng.getrandbits(32))
    return "".join(rng.choice("abcd") for _ in range(rng.randint(1, 4))) + str(i)
for _ in range(count):
    print("case")
    topics = ["t%d" % i for i in range(rng.randint(1, 6))]
    counts = {t: rng.randint(0, 12) for t in topics}
    for t in topics: print("topic", t, counts[t])
    n = rng.randint(1, 12)
    equal = rng.random() < 0.5
    shared = [t for t in topics if rng.random() < 0.6] or [topics[0]]
    members = []
    ids = set()
    for i in range(n):
        m = mid(i)
        while m in ids: m = mid(i) + "x"
        ids.add(m)
        ts = shared if equal else ([t for t in topics if rng.random() < 0.5] or [rng.choice(topics)])
        if rng.random() < 0.1: ts = ts + ["gone"]
        inst = ("inst%d" % i) if rng.random() < 0.2 else "-"
        members.append([m, inst, -1, "-", ts, []])
    gens_mode = mode if mode != "mix" else rng.choice(["none", "one", "multi", "dup", "ud"])
    if gens_mode != "none":
        g = rng.randint(1, 5)
        for m in members: m[2] = g if gens_mode != "multi" else rng.randint(-1, 6)
        for t in topics:
            for p in range(counts[t]):
                subs = [m for m in members if t in m[4]]
                if not subs or rng.random() < 0.3: continue
                owners = [rng.choice(subs)]
                if gens_mode in ("dup", "multi", "udup") and rng.random() < 0.2: owners.append(rng.choice(subs))
                for o in set(map(id, owners)):
                    [x for x in members if id(x) == o][0][5].append("%s:%d" % (t, p))
        if gens_mode in ("ud", "udup"):
            for m in members:
                if rng.random() < 0.5: m[3] = m[2]; m[2] = -1
    for m in members:
        print("member", m[0], m[1], m[2], m[3], ",".join(m[4]) or "-", ",".join(m[5]) or "-")
    print("end")

"""The demo's narration: numbered steps, the SQL shown before it runs, what went over the wire
(from the simulator's record of every request and every message it delivered), and how long each
step took. A step that does not reach its outcome raises StepFailed; demo/story.py turns that into
a loud failure and a non-zero exit."""
import datetime
import decimal
import json
import textwrap
import time

import psycopg2.extras

WIDTH = 140  # a wire line or table row is cut here


class StepFailed(Exception):
    pass


def _one_line(text):
    return " ".join(str(text).split())


def _cut(text, width):
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, str) and len(v) == 36 and v.count("-") == 4:
        return _short_id(v)
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, datetime.datetime):
        return v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, datetime.timedelta):
        s = v.total_seconds()
        return f"{int(s)} s" if s == int(s) else f"{s:.3f} s" if s < 60 else str(v).split(".")[0]
    if isinstance(v, decimal.Decimal):
        return str(int(v)) if v == v.to_integral() else format(v.normalize(), "f")
    if hasattr(v, "hex") and hasattr(v, "urn"):  # a UUID
        return _short_id(v)
    if isinstance(v, (list, tuple)):
        return "{" + ",".join(_cell(x) for x in v) + "}"
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _short_id(v):
    """A UUID's first 8 hex digits: enough to tell the demo's ids apart."""
    s = str(v)
    return s[:8] + "…" if len(s) == 36 and s.count("-") == 4 else s


def _jwt(v):
    return "JWT " + str(v)[:12] + "…" if isinstance(v, str) and v.count(".") == 2 else v


# ---- one line per message ------------------------------------------------------------------------
def _patients(body):
    """patient[] of link/carecontext, on-discover, on-confirm: 'MRN-1 Prescription:[OPD-1,LAB-2]'."""
    out = []
    for p in body.get("patient") or []:
        refs = ",".join(c.get("referenceNumber", "?") for c in p.get("careContexts") or [])
        out.append(f"{p.get('referenceNumber')} {p.get('hiType', '')}:[{refs}]".replace(" :", ":"))
    return "; ".join(out)


def _error(body):
    e = (body or {}).get("error") if isinstance(body, dict) else None
    return f"error {e.get('code')} {e.get('message', '')}" if isinstance(e, dict) else None


def _kv(**fields):
    def fmt(v):
        return "[" + ",".join(str(x) for x in v) + "]" if isinstance(v, list) else str(v)
    return " ".join(f"{k}={fmt(v)}" for k, v in fields.items() if v not in (None, "", [], {}))


def abridge(route, body, headers=None):
    """The key fields of a message body, on one line."""
    b = body if isinstance(body, dict) else {}
    err = _error(b)
    n = b.get("notification") or {}
    if route == "sessions":
        return _kv(clientId=b.get("clientId"), clientSecret="***", grantType=b.get("grantType"))
    if route == "bridge-url":
        return _kv(url=b.get("url"))
    if route == "certs":
        return "the listener fetches the gateway's signing keys (JWKS) to verify its bearer tokens"
    if route == "generate-token":
        return _kv(abhaAddress=b.get("abhaAddress"), name=repr(b.get("name")), gender=b.get("gender"),
                   yearOfBirth=b.get("yearOfBirth"), abhaNumber=b.get("abhaNumber"))
    if route == "on-generate-token":
        return err or _kv(linkToken=_jwt(b.get("linkToken")), abhaAddress=b.get("abhaAddress"))
    if route == "link-carecontext":
        tok = {k.lower(): v for k, v in (headers or {}).items()}.get("x-link-token")
        return _kv(patient=_patients(b), **{"X-LINK-TOKEN": _jwt(tok)}, abhaAddress=b.get("abhaAddress"))
    if route in ("on-carecontext", "sms-on-notify", "context-on-notify"):
        return err or _kv(status=repr(b.get("status") or (b.get("acknowledgement") or {}).get("status")))
    if route == "context-notify":
        cc = n.get("careContext") or {}
        return _kv(hiTypes=n.get("hiTypes"), careContext=cc.get("careContextReference"),
                   patient=(n.get("patient") or {}).get("id"))
    if route == "sms-notify2":
        return _kv(phoneNo=n.get("phoneNo"), hip=(n.get("hip") or {}).get("id"))
    if route == "discover":
        p = b.get("patient") or {}
        ids = ",".join(f"{i.get('type')}:{i.get('value')}" for i in p.get("verifiedIdentifiers") or [])
        return _kv(transactionId=_short_id(b.get("transactionId")), id=p.get("id"), name=repr(p.get("name")),
                   gender=p.get("gender"), yearOfBirth=p.get("yearOfBirth"), verified=ids)
    if route == "on-discover":
        return err or _kv(matchedBy=b.get("matchedBy"), patient=_patients(b))
    if route == "link-init":
        return _kv(transactionId=_short_id(b.get("transactionId")), patient=_patients(b))
    if route == "hook":
        return _kv(to=b.get("mobile") or b.get("phone") or b.get("to"), message=repr(b.get("message")))
    if route == "on-init":
        link = b.get("link") or {}
        meta = link.get("meta") or {}
        return err or _kv(referenceNumber=_short_id(link.get("referenceNumber")),
                          authenticationType=link.get("authenticationType"),
                          communicationHint=meta.get("communicationHint"), medium=meta.get("communicationMedium"))
    if route == "link-confirm":
        c = b.get("confirmation") or {}
        return _kv(linkRefNumber=_short_id(c.get("linkRefNumber")), token=c.get("token"))
    if route == "on-confirm":
        return err or _kv(patient=_patients(b))
    if route == "consent-notify":
        d = n.get("consentDetail") or {}
        ccs = ",".join(c.get("careContextReference", "?") for c in d.get("careContexts") or [])
        return _kv(status=n.get("status"), consentId=_short_id(n.get("consentId")), hiTypes=d.get("hiTypes"),
                   careContexts=f"[{ccs}]" if ccs else None, hiu=(d.get("hiu") or {}).get("id"),
                   patient=(d.get("patient") or {}).get("id"))
    if route == "consent-on-notify":
        a = b.get("acknowledgement") or {}
        return err or _kv(consentId=_short_id(a.get("consentId")), status=a.get("status"))
    if route == "hi-request":
        r = b.get("hiRequest") or {}
        dr = r.get("dateRange") or {}
        return _kv(consentId=_short_id((r.get("consent") or {}).get("id")), transactionId=_short_id(b.get("transactionId")),
                   dateRange=f"{str(dr.get('from'))[:10]}..{str(dr.get('to'))[:10]}",
                   keyMaterial=(r.get("keyMaterial") or {}).get("curve"), dataPushUrl=r.get("dataPushUrl"))
    if route == "hi-on-request":
        r = b.get("hiRequest") or {}
        return " ".join(x for x in (_kv(sessionStatus=r.get("sessionStatus")), err) if x)
    if route == "data-push":
        ents = b.get("entries") or []
        refs = ",".join(sorted({e.get("careContextReference", "?") for e in ents if isinstance(e, dict)}))
        km = b.get("keyMaterial") or {}
        sizes = ",".join(str(e.get("content", "?")).strip("<>").replace(" chars", "") for e in ents if isinstance(e, dict))
        key = str((km.get("dhPublicKey") or {}).get("keyValue", ""))
        return _kv(page=f"{b.get('pageNumber')}/{b.get('pageCount')}", entries=len(ents) if isinstance(ents, list) else ents,
                   careContexts=f"[{refs}]", content=f"{sizes}chars", dhPublicKey="…" + key[-8:],
                   nonce=str(km.get("nonce", ""))[:8] + "…")
    if route == "hi-notify":
        s = n.get("statusNotification") or {}
        per = " ".join(f"{r.get('careContextReference')}={r.get('hiStatus')}" for r in s.get("statusResponses") or [])
        return f"{s.get('sessionStatus')} {per}".strip()
    # Anything else: its scalar top-level fields.
    return err or _kv(**{k: v for k, v in b.items() if isinstance(v, (str, int, float)) and k != "timestamp"})


class Story:
    def __init__(self, db, sim):
        self.db, self.c = db, sim
        self.n = 0
        self.title = None
        self.seq = self._last_seq()
        self.t0 = None
        self.started = time.monotonic()
        self.timings = []

    # -- structure ---------------------------------------------------------------------------------
    def step(self, title, *about):
        self.n += 1
        self.title = title
        self.outcomes = []
        self.t0 = None
        self.seq = self._last_seq()
        print()
        print(f"{self.n:>2}. {title}")
        print("    " + "─" * len(title))
        for line in about:
            for w in textwrap.wrap(line, WIDTH - 4):
                print("    " + w)

    def say(self, text):
        for w in textwrap.wrap(text, WIDTH - 4):
            print("    " + w)

    def start_clock(self):
        if self.t0 is None:
            self.t0 = time.monotonic()
            self.t0_wall = time.time()

    # -- SQL ---------------------------------------------------------------------------------------
    def sql(self, stmt, *args, show=None, rows=True, clock=True, limit=12, display=None, note=None):
        """Prints the statement as it will run (arguments bound), runs it, and prints its rows.
        `display` replaces long literals in what is printed only (each (actual, shown) pair);
        `note` is printed after it as an SQL comment."""
        first, _, rest = stmt.strip().partition("\n")
        stmt = first.strip() + ("\n" + textwrap.indent(textwrap.dedent(rest), "  ") if rest else "")
        with self.db.cursor() as cur:
            text = cur.mogrify(stmt, args).decode() if args else stmt
        shown = text
        for actual, short in display or ():
            shown = shown.replace(actual, short)
        print()
        lines = shown.splitlines()
        if note:
            lines[-1] += "   -- " + note
        for i, line in enumerate(lines):
            print(("    sql> " if i == 0 else "         ") + line)
        if clock:
            self.start_clock()
        with self.db.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(text)
            out = cur.fetchall() if cur.description else []
            status = cur.statusmessage
        if rows and out:
            self.table(out, show, limit=limit)
        elif rows and cur.description is None:
            print("         " + status)
        elif rows:
            print("         (0 rows)")
        return out

    def table(self, rows, cols=None, limit=12, indent=9):
        if not rows:
            print(" " * indent + "(no rows)")
            return
        cols = cols or list(rows[0].keys())
        pad = " " * indent
        cells = [[_cut(_one_line(_cell(r.get(c))), 60) for c in cols] for r in rows[:limit]]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
        if sum(widths) + 3 * (len(cols) - 1) > WIDTH - indent and len(rows) <= 2:
            # Too wide for a line: one "column: value" line each, like psql's \x.
            name_w = max(len(c) for c in cols)
            for i, r in enumerate(rows):
                if len(rows) > 1:
                    print(pad + f"-[ row {i + 1} ]")
                for c in cols:
                    print(pad + _cut(f"{c.ljust(name_w)} | {_one_line(_cell(r.get(c)))}", WIDTH - indent))
            return
        print(pad + _cut(" | ".join(c.ljust(w) for c, w in zip(cols, widths)), WIDTH - indent).rstrip())
        print(pad + _cut("-+-".join("-" * w for w in widths), WIDTH - indent))
        for row in cells:
            print(pad + _cut(" | ".join(v.ljust(w) for v, w in zip(row, widths)), WIDTH - indent).rstrip())
        if len(rows) > limit:
            print(pad + f"({len(rows)} rows, {limit} shown)")

    # -- the wire ----------------------------------------------------------------------------------
    def _last_seq(self):
        r = self.c.requests(limit=1, bodies=False)
        d = self.c.deliveries(limit=1)
        return max([x["seq"] for x in r] + [x["seq"] for x in d] + [0])

    def messages(self, since=None):
        """Everything that went over the wire since the step began, in order: what the HIP sent
        (to the gateway, the HIU, the SMS hook) and what the gateway / consent manager sent it."""
        since = self.seq if since is None else since
        out = []
        for r in self.c.requests(since=since):
            route = r.get("route") or ""
            if route.startswith("control"):
                continue
            if r.get("server") == "hiu":
                who, route = "HIP→HIU", "data-push"
            elif route == "hook":
                who = "HIP→SMS"
            else:
                who = "HIP→GW "
            out.append({"seq": r["seq"], "t": r.get("time"), "who": who, "method": r.get("method"),
                        "path": r.get("relPath") or r.get("path"), "status": r.get("status"), "route": route,
                        "body": r.get("body"), "headers": r.get("headers"), "callbacks": r.get("callbacks"),
                        "requestId": r.get("requestId")})
        for d in self.c.deliveries(since=since):
            kind = d.get("kind") or ""
            sender = "CM" if kind in ("discover", "link-init", "link-confirm", "consent-notify", "hi-request") else "GW"
            out.append({"seq": d["seq"], "t": d.get("deliveredAt") or d.get("createdAt"),
                        "who": f"{sender}→HIP".ljust(7), "method": "POST", "path": d.get("path"),
                        "status": d.get("status"), "route": kind, "body": d.get("body"),
                        "headers": None, "response": d.get("response"), "requestId": d.get("requestId")})
        return sorted(out, key=lambda m: m["seq"])

    def settle(self, since=None, timeout=3.0):
        """The step's messages once the outbox has sent everything (the HIP's answers included) and
        every callback the gateway owes for them has been delivered."""
        deadline = time.monotonic() + timeout
        while True:
            with self.db.cursor() as cur:
                cur.execute("SELECT count(*) FROM abdm_hip.outbox WHERE status = 'pending'")
                if cur.fetchone()[0] and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
            msgs = self.messages(since)
            owed = {cb for m in msgs for cb in (m.get("callbacks") or [])}
            done = {m["requestId"] for m in msgs if m["who"].strip().endswith("→HIP") and m["status"] is not None}
            pending = [m for m in msgs if m["who"].strip().endswith("→HIP") and m["status"] is None]
            if (owed <= done and not pending) or time.monotonic() > deadline:
                return msgs
            time.sleep(0.02)

    def wire(self, group_over=10, since=None, label="wire"):
        msgs = self.settle(since)
        self.seq = max([m["seq"] for m in msgs] + [self.seq])
        print()
        if not getattr(self, "legend_shown", False):
            self.legend_shown = True
            label += ("   (GW = the ABDM gateway, CM = the consent manager, HIU = the health-information user, "
                      "SMS = the hospital's SMS gateway; +s since the step's first write)")
        print(f"    {label}:")
        if not msgs:
            print("         (nothing)")
            return msgs
        if len(msgs) > group_over:
            groups = {}
            for m in msgs:
                k = (m["who"], m["method"], m["path"], m["status"])
                groups.setdefault(k, []).append(m)
            for (who, method, path, status), ms in groups.items():
                first = ms[0]
                line = f"{len(ms):>3} × {who} {method} {path} {status}   e.g. {_one_line(abridge(first['route'], first['body'], first['headers']))}"
                print("         " + _cut(line, WIDTH - 9))
            return msgs
        for m in msgs:
            at = (f"+{m['t'] - self.t0_wall:.3f}s" if self.t0 is not None and m["t"] and m["t"] >= self.t0_wall - 0.001
                  else "")
            line = f"{at:>7} {m['who']} {m['method']} {m['path']} {m['status']}  {_one_line(abridge(m['route'], m['body'], m['headers']))}"
            print("         " + _cut(line, WIDTH - 9))
        return msgs

    # -- outcomes ----------------------------------------------------------------------------------
    def outcome(self, what, probe, timeout=30.0, interval=0.02, since=None):
        """Waits until probe() is truthy; the step's time runs from its first write (or `since`,
        a time.monotonic()) to now."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = probe()
            except Exception as e:  # noqa: BLE001 - the probe's error is the failure's reason
                last = e
                if isinstance(e, StepFailed):
                    raise
            if last and not isinstance(last, Exception):
                self.took(what, since)
                return last
            time.sleep(interval)
        try:  # what did happen, for the reader of the failure
            self.wire(label="wire so far")
        except Exception:  # noqa: BLE001
            pass
        raise StepFailed(f"step {self.n} ({self.title}): {what}: not reached within {timeout:.0f} s (last seen: {last!r})")

    def took(self, what, since=None):
        start = since if since is not None else self.t0 if self.t0 is not None else time.monotonic()
        dt = time.monotonic() - start
        if since is None:
            if self.timings and self.timings[-1][0] == self.n:
                self.timings.pop()
            self.timings.append((self.n, self.title, dt))
        self.outcomes.append(f"    ✔ {what}: {dt:.2f} s")

    def done(self):
        """Prints the step's outcome line (after its wire and tables)."""
        print()
        for line in self.outcomes:
            print(line)

    def summary(self):
        print()
        print(f"every flow completed: {self.n} steps in {time.monotonic() - self.started:.1f} s; each from the HMIS's "
              "write (or the gateway's first call) to its outcome:")
        for n, title, dt in self.timings:
            print(f"   {n:>2}. {_cut(title, 80):<80} {dt:6.2f} s")

    def check(self, cond, message):
        if not cond:
            raise StepFailed(f"step {self.n} ({self.title}): {message}")

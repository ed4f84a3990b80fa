"""/secure/reports: what players report, for the wizards: bugs, typos, ideas.

A player's 'bug', 'typo' or 'idea' files a report here: what kind, who,
where (the room's object name, which a wizard can 'goto'), when, and the
player's words.  The wizards online hear of it at once; 'reports' lists
the open ones and 'reports done <number>' closes one.  The reports are
saved under the data directory (data/world/reports.json) with every
change, so they outlast a restart; this object lives under /secure/
because writing there is the master's to allow, and it trusts /secure/.

A report is at most MAX_TEXT characters, one player files at most
REPORT_LIMIT in REPORT_WINDOW seconds, and at most MAX_OPEN stay open (the
oldest closes when the list is full): one player holding a key down must
not fill the disk or bury everyone else's reports.
"""

from driver.efuns import (EfunError, call_other, debug_message, inherit, restore_object,
                          save_object, this_interactive, time, users)

MASTER = "/master"
RATE_LIMITED = "/std/rate_limited"
SAVE = "world/reports"
KINDS = ("bug", "typo", "idea")
MAX_TEXT = 500
REPORT_LIMIT = 5
REPORT_WINDOW = 600
MAX_OPEN = 200


class Reports(inherit(RATE_LIMITED)):
    persistent = ("open_reports", "next_number")

    def create(self):
        # [{"number", "kind", "by", "room", "where", "at", "text"}], oldest first
        self.open_reports = []
        self.next_number = 1
        try:
            restore_object(self, SAVE)
        except EfunError as exc:    # a damaged save: new reports still work
            debug_message(f"reports: the saved reports were not restored: {exc}", "warning")
        if not isinstance(self.open_reports, list):
            self.open_reports = []
        self.open_reports = [report for report in self.open_reports
                             if isinstance(report, dict) and isinstance(report.get("number"), int)]
        if not isinstance(self.next_number, int):
            self.next_number = 1
        self.next_number = max([self.next_number,
                                *(report["number"] + 1 for report in self.open_reports)])

    def file(self, player, kind, text, room, where):
        """`player` reports `text` (already cleaned) of `kind` in `room`
        (its object name; `where`, its title).  Returns the report's number,
        or a sentence saying why it was not filed."""
        if player is not this_interactive():
            return "a report is filed by its player, typing the command"  # no forged names
        if kind not in KINDS:
            return f"there is no kind of report called {kind}"
        if len(text) > MAX_TEXT:
            return f"a report is at most {MAX_TEXT} characters"
        name = call_other(player, "query_name")
        if not self.may_act(name, REPORT_LIMIT, REPORT_WINDOW):
            return (f"you have filed {REPORT_LIMIT} reports in the last "
                    f"{REPORT_WINDOW // 60} minutes; the wizards will read those first")
        report = {"number": self.next_number, "kind": kind, "by": name, "room": room,
                  "where": where, "at": time(), "text": text}
        self.next_number += 1
        self.open_reports = [*self.open_reports, report][-MAX_OPEN:]
        self._save()
        for body in users():
            if body is not player and call_other(MASTER, "query_wizard", body):
                call_other(body, "tell", f"%^WARNING%^[report {report['number']}]%^RESET%^ "
                                         f"{name} reports a {kind} in {where} ({room}): "
                                         f"{text}\n")
        return report["number"]

    def query_open(self):
        """The open reports, oldest first, as copies."""
        return [dict(report) for report in self.open_reports]

    def close(self, number):
        """A wizard has dealt with report `number`: True if it was open."""
        if not call_other(MASTER, "query_wizard", this_interactive()):
            return False
        kept = [report for report in self.open_reports if report["number"] != number]
        if len(kept) == len(self.open_reports):
            return False
        self.open_reports = kept
        self._save()
        return True

    def _save(self):
        try:
            save_object(self, SAVE)
        except EfunError as exc:    # the report stands all the same, until a restart
            debug_message(f"reports: not saved: {exc}", "warning")

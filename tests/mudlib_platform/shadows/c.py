"""/shadows/c: the second shadow in LDMud's example of shadow(); a clone
of it is also a disguise (it answers to another name) and may stand down."""

from driver.efuns import MudObject, call_other, find_object, load_object, object_name, shadow
from driver.efuns import this_object, unshadow


def log(text):
    load_object("/shadows/log").add(f"{object_name(this_object())} {text}")


class C(MudObject):
    def fun(self):
        log("[c] fun()")
        call_other(find_object("/shadows/a"), "fun")

    def fun3(self):
        log("[c] fun3()")

    def do_shadow(self, target):
        return shadow(target)

    def stop(self):
        unshadow()

    def id(self, word):
        return word == "wolf"

"""/shadows/a: the object shadowed in LDMud's example of shadow()."""

from driver.efuns import MudObject, load_object, object_name, this_object


def log(text):
    load_object("/shadows/log").add(f"{object_name(this_object())} {text}")


class A(MudObject):
    def fun(self):
        log("[a] fun()")

    def fun3(self):
        log("[a] fun3()")

    def id(self, word):
        return word == "stone"

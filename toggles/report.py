"""
The edx-toggles state report, with what course flags add to a waffle flag.

Course flags already appear in ``edx_toggles.toggles.state.ToggleStateReport`` (they are WaffleFlag
instances). This report also says, for each, how many courses and orgs have an override in effect and the
percentage of courses; a flag that is neither off nor on everywhere has ``computed_status`` "both".
"""

from __future__ import annotations

from edx_toggles.toggles.state import ToggleStateReport, get_or_create_toggle_response

from toggles.api import summary
from toggles.registry import course_flags


class CourseFlagStateReport(ToggleStateReport):
    def add_waffle_flag_state(self, flags_dict):
        super().add_waffle_flag_state(flags_dict)
        for flag in course_flags():
            state = summary(flag)
            entry = get_or_create_toggle_response(flags_dict, flag.name)
            entry["course_overrides"] = {"on": state.courses_on, "off": state.courses_off}
            entry["org_overrides"] = {"on": state.orgs_on, "off": state.orgs_off}
            entry["percentage"] = str(state.percent) if state.percent is not None else None

    def get_waffle_flag_computed_status(self, flag):
        status = super().get_waffle_flag_computed_status(flag)
        if "course_overrides" not in flag:  # not a course flag
            return status
        on = flag["course_overrides"]["on"] + flag["org_overrides"]["on"] + (flag["percentage"] is not None)
        off = flag["course_overrides"]["off"] + flag["org_overrides"]["off"]
        if (status == "off" and on) or (status == "on" and off):
            return "both"
        return status


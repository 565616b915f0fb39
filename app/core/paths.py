"""A path convertor for record ids beside file-like paths: `{event_id:id}` matches one segment
without a dot, so `/events/{event_id:id}` never swallows `/events/{event_id}.ics` (which would
answer a PATCH there with 422 instead of 405). The value stays a string that the route's type
validates: a malformed id is still a 422."""

from starlette.convertors import StringConvertor, register_url_convertor

ID = "id"


class IdConvertor(StringConvertor):
    regex = "[^/.]+"


register_url_convertor(ID, IdConvertor())

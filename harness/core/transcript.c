/* transcript.c: dispatch to the transcript sink (see transcript.h). */
#include "transcript.h"

void transcript_write(const struct transcript_sink *sink, const struct transcript_entry *e)
{
    if (sink && sink->write && e)
        sink->write(sink->ctx, e);
}

void transcript_note(const struct transcript_sink *sink, const char *protocol, const char *peer,
                     const char *event, const char *summary)
{
    struct transcript_entry e = {
        .protocol = protocol,
        .dir = TRANSCRIPT_NOTE,
        .peer = peer,
        .event = event,
        .summary = summary,
    };
    transcript_write(sink, &e);
}

"""`newsletter check`: what a careful editor checks before a send, as findings that say where and what to do.

One module per job, so the build can use the light ones without loading the link checker:

- ``runner``: the command and export's preflight: build if stale, run the rules, report.
- ``findings``: the finding codes (errors and warnings), a finding's location, the report.
- ``rules``: the offline rules (settings, leftovers, size, subject, link words, stories).
- ``scan``: the links, images and text of the built email, read with an HTML parser.
- ``inputs``: the files an edition was built from, to tell when it is stale and where text came from.
- ``linkcheck``: links and images over HTTP (httpx), bounded and cached.
- ``spam``: SpamAssassin's score of the message, offline.
"""

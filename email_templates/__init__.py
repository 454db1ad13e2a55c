"""The Jinja2 templates of every message missionflow sends, rendered by
`missionflow.runtime.mail.templates`.

One `<name>.txt` and one `<name>.html` per message, both extending `layout.txt` / `layout.html`.
Files whose name starts with `_` hold macros shared by several messages and are no message.
The folder is a package so that the templates ship inside the wheel, next to the code that
renders them, and are found the same way in a checkout and in an installed worker.
"""

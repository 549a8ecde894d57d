"""The subcommands of `metazoo`, one module each (`demo` is `metazoo.demo`)."""

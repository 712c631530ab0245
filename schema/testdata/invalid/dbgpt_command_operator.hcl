cluster {
  name = "t"
}

server "s1" {
  address       = "10.0.0.1"
  dbgpt_command = "/opt/venv/bin/dbgpt; rm -rf /"
}

controller "c1" {
  server = server.s1
}

# want: 7:19 Invalid dbgpt_command: ';' is a shell operator or expansion

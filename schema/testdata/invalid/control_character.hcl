cluster {
  name = "t"
}

server "s1" {
  address       = "10.0.0.1"
  dbgpt_command = "dbgpt\nrm -rf /"
}

controller "c1" {
  server = server.s1
}

# want: 7:19 Control character in value: The value contains the control character U+000A

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

registry "mysql" {
  host     = "10.0.0.9"
  database = "dbgpt; DROP TABLE x"
  user     = "dbgpt"
  password = "x"
}

controller "c1" {
  server = server.s1
}

# want: 11:14 Unsafe SQL identifier: The registry database "dbgpt; DROP TABLE x" must be 1 to 64 letters, digits or '_': hactl writes it into SQL statements.

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

registry "mysql" {
  host     = "10.0.0.9"
  database = "dbgpt"
  user     = "db-gpt"
  password = "x"
}

controller "c1" {
  server = server.s1
}

# want: 12:14 Unsafe SQL identifier: The registry user "db-gpt" must be 1 to 32 letters, digits or '_': hactl writes it into SQL statements.

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

registry "postgres" {
  host = "10.0.0.9"
}

controller "c1" {
  server = server.s1
}

# want: 9:10 Invalid registry type: The registry type is "mysql", "sqlite" or "embedded", not "postgres".

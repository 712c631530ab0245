cluster {
  name = "t"
}

server "s1" {
  address         = "10.0.0.1"
  connect_timeout = "10"
}

controller "c1" {
  server = server.s1
}

# want: 7:21 Invalid duration: "connect_timeout" must be a positive duration like "10s" or "1m30s", not "10".

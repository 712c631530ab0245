cluster {
  name = "t"
}

defaults {
  host_key_policy = "strikt"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

# want: 6:21 Invalid host key policy: host_key_policy must be "strict", "accept-new" or "insecure", not "strikt"

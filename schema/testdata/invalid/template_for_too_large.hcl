cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

locals {
  s = "a long string, a long string, a long string, a long string"
  x = "%{for a in range(1000)}%{for b in range(1000)}${local.s}%{endfor}%{endfor}"
}

# want: 15:31 Value too large: goes through more than 10000 elements

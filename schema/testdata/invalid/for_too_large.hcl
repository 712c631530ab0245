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
  x = [for a in range(1000) : [for b in range(1000) : [for c in range(1000) : a + b + c]]]
}

# want: 14:55 Value too large: goes through more than 10000 elements

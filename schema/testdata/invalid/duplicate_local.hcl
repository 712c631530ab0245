locals {
  a = 1
}

locals {
  a = 2
}

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

# want: 6:3 Duplicate local value: A local value named "a" is already declared at 

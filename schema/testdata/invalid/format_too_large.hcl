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
  x = format("%0999999999d", 1)
}

# want: 14:7 Error in function call: Call to function "format" failed: value too large (more than 10000 elements).

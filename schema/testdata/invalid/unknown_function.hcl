cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
  host   = uppercase("x")
}

# want: 11:12 Call to unknown function: There is no function named "uppercase".

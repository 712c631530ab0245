cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
  jump {
    user = "bastion"
  }
}

controller "c1" {
  server = server.s1
}

# want: 7:8 Missing required argument: The argument "address" is required, but no definition was found.

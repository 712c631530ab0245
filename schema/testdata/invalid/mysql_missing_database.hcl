cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

registry "mysql" {
  host     = "10.0.0.9"
  user     = "dbgpt"
  password = "x"
}

controller "c1" {
  server = server.s1
}

# want: 9:18 Missing required argument: The argument "database" is required, but no definition was found.

cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"

  jmup {
    address = "10.0.0.254"
  }
}

controler "c1" {
  server = server.s1
}

# want: 8:3 Unsupported block type: Blocks of type "jmup" are not expected here. Did you mean "jump"?
# want: 13:1 Unsupported block type: Blocks of type "controler" are not expected here. Did you mean "controller"?
# want: 1:1 No controller: A cluster needs at least one controller block

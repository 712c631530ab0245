cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

cluster {
  name = "u"
}

controller "c1" {
  server = server.s1
}

# want: 9:1 Duplicate cluster block: Only one cluster block is allowed; the first is at 

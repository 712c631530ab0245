cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

controller "c1" {
  server = server.s1
  port   = 8010
}

# want: 13:12 Duplicate controller name: A controller named "c1" is already declared at 

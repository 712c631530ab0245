cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

controller "c2" {
  server = server.s1
  port   = 8010
}

# want: 13:1 High availability needs a database registry: The cluster has 2 controllers but no mysql or sqlite registry: each controller would keep its own in-memory registry, so they would not share workers

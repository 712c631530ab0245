cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

server "s2" {
  address = "10.0.0.2"
}

registry "sqlite" {
  path = "/var/lib/hactl/registry.db"
}

controller "c1" {
  server = server.s1
}

controller "c2" {
  server = server.s2
}

# want: 22:12 SQLite registry on several servers: controller.c2 runs on server "s2" but controller.c1 on server "s1": a SQLite file cannot be shared between machines

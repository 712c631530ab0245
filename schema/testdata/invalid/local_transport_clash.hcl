cluster {
  name = "t"
}

server "a" {
  transport = "local"
}

server "b" {
  transport = "local"
}

registry "sqlite" {
  path = "/tmp/r.db"
}

controller "c1" {
  server = server.a
}

controller "c2" {
  server = server.b
}

# want: 21:1 Port already in use: controller.c1 and controller.c2 both use port 8000 on servers "a" and "b"

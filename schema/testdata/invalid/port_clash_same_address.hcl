cluster {
  name = "t"
}

server "a" {
  address = "10.0.0.1"
}

server "b" {
  address = "10.0.0.1"
}

registry "mysql" {
  host     = "10.0.0.9"
  database = "dbgpt"
  user     = "dbgpt"
  password = "x"
}

controller "c1" {
  server = server.a
}

controller "c2" {
  server = server.b
}

# want: 24:1 Port already in use: controller.c1 and controller.c2 both use port 8000 on servers "a" and "b"

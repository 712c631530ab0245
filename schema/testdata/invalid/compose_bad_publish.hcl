cluster {
  name = "t"
}

server "s1" {
  address = "s1"
}

registry "mysql" {
  host     = "db"
  database = "dbgpt"
  user     = "root"
  password = "pw"
}

controller "c1" {
  server = server.s1
}

compose {
  dbgpt_image     = "x"
  root_password   = "pw"
  publish         = ["webserver", "controller"]
  publish_address = "localhost"
  access          = "docker-exec"
}

# want: 23:21 Invalid publish entry: publish lists "controller"; allowed: "webserver", "apiserver", "controllers". Did you mean "controllers"?
# want: 24:21 Invalid publish address: publish_address must be an IP address of this machine
# want: 25:21 Invalid access mode: access must be one of "auto", "network", "exec", not "docker-exec".

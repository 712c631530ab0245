cluster {
  name = "t"
}

server "s1" {
  address = "10.0.0.1"
}

controller "c1" {
  server = server.s1
}

model "m" {
  type = "llm"
  path = "/m"
}

worker "w" {
  server = server.s1
  model  = model.m
  port   = 8000
}

# want: 21:12 Port already in use: controller.c1 and worker.w both use port 8000 on server "s1"

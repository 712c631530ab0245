model "m" {
  type = "llm"
  path = "/m"
  params = {
  max_length = 4096
      trust_remote_code = true
  }
}
worker "w" {
server = server.s1
model = model.m
extra_args = ["--a",   "b"]
env = { A = "1", LONGER_NAME = "2" }
}

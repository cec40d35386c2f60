module tapioca.dev/auth

go 1.26

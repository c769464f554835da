print("guestfsd")

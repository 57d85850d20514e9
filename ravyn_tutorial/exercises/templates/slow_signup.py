"""Exercise slow_signup: answer first, send the email after.

POST /signup registers an email address and sends a welcome email. The mail
server is slow (half a second here), and the client has to wait for it
before it gets its 201.

Make it so that:
  * the client gets its response straight away, and
  * the welcome email is still sent, once, to the address that signed up,
    after the response.

Check your work:  ravyn-tutorial check slow_signup
Stuck?            ravyn-tutorial hint slow_signup
"""

import time

from ravyn import Ravyn, post


def send_welcome_email(email: str) -> None:
    time.sleep(0.5)  # a slow mail server
    print(f"welcome email sent to {email}")


@post("/signup")
def signup(email: str) -> dict[str, str]:
    send_welcome_email(email)
    return {"email": email, "status": "registered"}


app = Ravyn()
app.add_route(signup)
